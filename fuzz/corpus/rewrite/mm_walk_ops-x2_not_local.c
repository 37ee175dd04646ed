/*
 * Case x2 (flagged): a helper takes the walk as a parameter and calls
 * walk_page_range(start, end, walk) with it (not-local, at that call); its
 * caller passes &w to the helper (escape, at the helper call).
 */
#include <linux/mm.h>

static int anon_pte_entry(pte_t *pte, unsigned long addr,
			  unsigned long next, struct mm_walk *walk)
{
	unsigned long *nr = walk->private;
	struct page *page;

	if (!pte_present(*pte))
		return 0;
	page = vm_normal_page(walk->vma, addr, *pte);
	if (page && PageAnon(page))
		(*nr)++;
	return 0;
}

static int walk_range_locked(struct mm_walk *walk, unsigned long start,
			     unsigned long end)
{
	int err;

	down_read(&walk->mm->mmap_sem);
	err = walk_page_range(start, end, walk);
	up_read(&walk->mm->mmap_sem);
	return err;
}

int count_anon(struct mm_struct *mm, unsigned long start, unsigned long end,
	       unsigned long *nr)
{
	struct mm_walk w = {
		.pte_entry = anon_pte_entry,
		.mm = mm,
		.private = nr,
	};

	*nr = 0;
	return walk_range_locked(&w, start, end);
}
