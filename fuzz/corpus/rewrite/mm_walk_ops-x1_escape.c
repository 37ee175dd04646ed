/*
 * Case x1 (flagged): the walk's address is passed to a helper before the
 * call, so the helper may change any field.  The site is the entry-point call; the message names the helper call.
 */
#include <linux/mm.h>

static int dump_pte_entry(pte_t *pte, unsigned long addr,
			  unsigned long next, struct mm_walk *walk)
{
	unsigned long *nr = walk->private;

	if (pte_present(*pte))
		(*nr)++;
	return 0;
}

static void trace_walk_start(const struct mm_walk *walk, unsigned long start,
			     unsigned long end)
{
	pr_debug("walk %lx-%lx mm=%p private=%p\n", start, end,
		 walk->mm, walk->private);
}

unsigned long dump_range(struct mm_struct *mm, unsigned long start,
			 unsigned long end)
{
	unsigned long nr = 0;
	struct mm_walk walk = {
		.pte_entry = dump_pte_entry,
		.mm = mm,
		.private = &nr,
	};

	trace_walk_start(&walk, start, end);
	walk_page_range(start, end, &walk);
	return nr;
}
