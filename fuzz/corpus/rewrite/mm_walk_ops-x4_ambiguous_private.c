/*
 * Case x4 (flagged): .private gets a different value on each branch of an
 * if/else that reaches the call.  The site is the call.
 */
#include <linux/mm.h>

struct dirty_count {
	unsigned long nr;
};

static int dirty_count_pte(pte_t *pte, unsigned long addr,
			   unsigned long next, struct mm_walk *walk)
{
	struct dirty_count *dc = walk->private;

	if (pte_present(*pte) && pte_dirty(*pte))
		dc->nr++;
	return 0;
}

void count_dirty(struct vm_area_struct *vma, struct dirty_count *shared,
		 struct dirty_count *private)
{
	struct mm_walk walk = {
		.pte_entry = dirty_count_pte,
		.mm = vma->vm_mm,
	};

	if (vma->vm_flags & VM_SHARED)
		walk.private = shared;
	else
		walk.private = private;

	walk_page_range(vma->vm_start, vma->vm_end, &walk);
}
