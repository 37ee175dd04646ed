/*
 * Case g1: one walk used by two calls, with a "goto retry" loop around
 * both.  Both calls use the same ops struct.  "ps.missing = 0"
 * on the retry path changes what .private points to, not the pointer
 * "&ps" itself, so it is not a changed value.
 */
#include <linux/mm.h>

struct populate_state {
	unsigned long missing;
	unsigned long first_missing;
};

static int populated_pte_entry(pte_t *pte, unsigned long addr,
			       unsigned long next, struct mm_walk *walk)
{
	struct populate_state *ps = walk->private;

	if (pte_present(*pte))
		return 0;
	if (!ps->missing++)
		ps->first_missing = addr;
	return 0;
}

static int populated_pte_hole(unsigned long addr, unsigned long next,
			      struct mm_walk *walk)
{
	struct populate_state *ps = walk->private;

	if (fatal_signal_pending(current))
		return -EINTR;
	if (!ps->missing)
		ps->first_missing = addr;
	ps->missing += (next - addr) >> PAGE_SHIFT;
	return 0;
}

int check_populated(struct mm_struct *mm, unsigned long start,
		    unsigned long end, unsigned long *first_missing)
{
	struct populate_state ps = { 0 };
	struct mm_walk walk = {
		.pte_entry = populated_pte_entry,
		.pte_hole = populated_pte_hole,
		.mm = mm,
		.private = &ps,
	};
	int tries = 0;
	int err;

retry:
	down_read(&mm->mmap_sem);
	err = walk_page_range(start, end, &walk);
	/* The guard page below the range must be populated too. */
	if (!err && start >= PAGE_SIZE)
		err = walk_page_range(start - PAGE_SIZE, start, &walk);
	up_read(&mm->mmap_sem);
	if (err == -EINTR && ++tries < 3) {
		ps.missing = 0;
		cond_resched();
		goto retry;
	}
	if (err)
		return err;

	*first_missing = ps.first_missing;
	return ps.missing ? -EFAULT : 0;
}
