/*
 * Case n2 (must not fire): a file-local struct mm_walk_state that looks
 * like the old walker (callback, .mm, .private) and a variable named
 * mm_walk of that type.  It is not struct mm_walk.
 */
#include <linux/mm.h>

struct mm_walk_state {
	int (*page_fn)(struct mm_walk_state *st, unsigned long addr);
	struct mm_struct *mm;
	void *private;
};

static int mm_walk_state_run(struct mm_walk_state *st, unsigned long start,
			     unsigned long end)
{
	unsigned long addr;
	int err;

	for (addr = start; addr < end; addr += PAGE_SIZE) {
		err = st->page_fn(st, addr);
		if (err)
			return err;
	}
	return 0;
}

static int count_mapped_page(struct mm_walk_state *st, unsigned long addr)
{
	unsigned long *count = st->private;

	if (find_vma(st->mm, addr))
		(*count)++;
	return 0;
}

unsigned long count_mapped(struct mm_struct *mm, unsigned long start,
			   unsigned long end)
{
	unsigned long count = 0;
	struct mm_walk_state mm_walk = {
		.page_fn = count_mapped_page,
		.mm = mm,
		.private = &count,
	};

	down_read(&mm->mmap_sem);
	mm_walk_state_run(&mm_walk, start, end);
	up_read(&mm->mmap_sem);
	return count;
}
