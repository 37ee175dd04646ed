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

bool range_is_populated(struct mm_struct *mm, unsigned long start,
			unsigned long end)
{
	struct mm_walk walk = {
		.pte_entry = populated_pte_entry,
		.pte_hole = populated_pte_hole,
		.mm = mm,
	};

	if (walk_page_range(start, end, &walk))
		return false;
	return true;
}
