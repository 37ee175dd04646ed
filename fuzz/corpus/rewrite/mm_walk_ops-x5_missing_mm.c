/*
 * Case x5 (flagged): walk_page_range() with a walk that never sets .mm
 * (the old walker would fail with -EINVAL).  The site is the call.
 */
#include <linux/mm.h>

static int softdirty_pte(pte_t *pte, unsigned long addr,
			 unsigned long next, struct mm_walk *walk)
{
	bool *found = walk->private;

	if (pte_present(*pte) && pte_soft_dirty(*pte))
		*found = true;
	return 0;
}

bool range_soft_dirty(unsigned long start, unsigned long end)
{
	bool found = false;
	struct mm_walk walk = {
		.pte_entry = softdirty_pte,
		.private = &found,
	};

	walk_page_range(start, end, &walk);
	return found;
}
