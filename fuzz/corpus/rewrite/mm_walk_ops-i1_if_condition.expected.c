/*
 * Case i1: the call is the condition of an if statement.  .private is
 * never set, so the new call passes NULL.
 */
#include <linux/mm.h>

static int populated_pte_entry(pte_t *pte, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	return pte_present(*pte) ? 0 : -EFAULT;
}

static int populated_pte_hole(unsigned long addr, unsigned long next,
			      struct mm_walk *walk)
{
	return -EFAULT;
}

static const struct mm_walk_ops range_is_populated_walk_ops = {
	.pte_entry	= populated_pte_entry,
	.pte_hole	= populated_pte_hole,
};

bool range_is_populated(struct mm_struct *mm, unsigned long start,
			unsigned long end)
{
	if (walk_page_range(mm, start, end, &range_is_populated_walk_ops, NULL))
		return false;
	return true;
}
