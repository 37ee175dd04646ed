/*
 * Case x3 (flagged): the pte_entry callback is stored from a
 * function-pointer parameter, so no constant ops struct can hold it.
 * Decision: like the other field-value codes (ambiguous-value,
 * changed-value, missing-field), the site is the call the value reaches,
 * not the store.
 */
#include <linux/mm.h>

typedef int (*range_pte_fn)(pte_t *pte, unsigned long addr,
			    unsigned long next, struct mm_walk *walk);

static int range_pte_hole(unsigned long addr, unsigned long next,
			  struct mm_walk *walk)
{
	return 0;
}

int apply_to_user_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, range_pte_fn fn, void *data)
{
	struct mm_walk walk = {
		.pte_hole = range_pte_hole,
		.mm = mm,
		.private = data,
	};
	int err;

	walk.pte_entry = fn;
	down_read(&mm->mmap_sem);
	err = walk_page_range(start, end, &walk);
	up_read(&mm->mmap_sem);
	return err;
}
