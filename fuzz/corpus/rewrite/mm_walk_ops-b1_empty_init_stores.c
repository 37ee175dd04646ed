/*
 * Case b1: an empty initializer followed by field stores.  The .test_walk
 * store is NULL, so that member is left out of the ops struct.  .pte_hole
 * and .private are each stored twice: the last store before the call wins,
 * and a member keeps the place where its field was first stored.
 */
#include <linux/mm.h>

struct softdirty_stats {
	unsigned long cleared;
	unsigned long holes;
};

static int softdirty_clear_pte(pte_t *pte, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	struct softdirty_stats *st = walk->private;
	pte_t ptent = *pte;

	if (!pte_present(ptent) || !pte_soft_dirty(ptent))
		return 0;
	ptent = ptep_get_and_clear(walk->mm, addr, pte);
	set_pte_at(walk->mm, addr, pte, pte_mkclean(ptent));
	st->cleared++;
	return 0;
}

static int softdirty_hole(unsigned long addr, unsigned long next,
			  struct mm_walk *walk)
{
	struct softdirty_stats *st = walk->private;

	st->holes += (next - addr) >> PAGE_SHIFT;
	return 0;
}

void clear_soft_dirty_range(struct mm_struct *mm, unsigned long start,
			    unsigned long end)
{
	struct softdirty_stats st = { 0 };
	struct mm_walk walk = {};

	walk.pte_hole = NULL;
	walk.pte_entry = softdirty_clear_pte;
	walk.test_walk = NULL;
	walk.mm = mm;
	walk.private = NULL;

	down_write(&mm->mmap_sem);
	walk.pte_hole = softdirty_hole;
	walk.private = &st;
	walk_page_range(start, end, &walk);
	flush_tlb_mm(mm);
	up_write(&mm->mmap_sem);

	pr_debug("soft-dirty: cleared %lu ptes, %lu pages unmapped\n",
		 st.cleared, st.holes);
}
