/*
 * Case a: a designated initializer that sets the callbacks, .mm and
 * .private, and one call.  The function has a leading comment, so the ops
 * struct goes above that comment.
 */
#include <linux/mm.h>

struct resident_count {
	unsigned long present;
	unsigned long young;
};

static int resident_pte_entry(pte_t *pte, unsigned long addr,
			      unsigned long next, struct mm_walk *walk)
{
	struct resident_count *rc = walk->private;
	pte_t ptent = *pte;

	if (!pte_present(ptent))
		return 0;
	rc->present++;
	if (pte_young(ptent))
		rc->young++;
	return 0;
}

static int resident_pte_hole(unsigned long addr, unsigned long next,
			     struct mm_walk *walk)
{
	cond_resched();
	return 0;
}

static const struct mm_walk_ops resident_walk_ops = {
	.pte_entry	= resident_pte_entry,
	.pte_hole	= resident_pte_hole,
};

/*
 * Count the resident pages of @mm in [@start, @end) and how many of them
 * were referenced since the last scan.  Caller holds mmap_sem for reading.
 */
unsigned long count_resident_pages(struct mm_struct *mm, unsigned long start,
				   unsigned long end, unsigned long *young)
{
	struct resident_count rc = { 0 };

	walk_page_range(mm, start, end, &resident_walk_ops, &rc);
	*young = rc.young;
	return rc.present;
}
