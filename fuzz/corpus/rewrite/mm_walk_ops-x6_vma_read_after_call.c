/*
 * Case x6 (flagged): walk.vma, which the walker sets, is read after the
 * call.  The new API has no such field to read.  The site is the read.
 */
#include <linux/mm.h>

static int first_present_pte(pte_t *pte, unsigned long addr,
			     unsigned long next, struct mm_walk *walk)
{
	unsigned long *addrp = walk->private;

	if (!pte_present(*pte))
		return 0;
	*addrp = addr;
	return 1;
}

struct vm_area_struct *find_first_present(struct mm_struct *mm,
					  unsigned long start,
					  unsigned long end,
					  unsigned long *addrp)
{
	struct mm_walk walk = {
		.pte_entry = first_present_pte,
		.mm = mm,
		.private = addrp,
	};
	int ret;

	ret = walk_page_range(start, end, &walk);
	if (ret <= 0)
		return NULL;
	return walk.vma;
}
