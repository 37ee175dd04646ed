/*
 * Case b2: the walk has no initializer; it is cleared with memset() and
 * then filled in field by field.
 */
#include <linux/mm.h>
#include <linux/string.h>

struct pfn_collect {
	unsigned long *pfns;
	unsigned int nr;
	unsigned int max;
};

static int collect_pte_entry(pte_t *pte, unsigned long addr,
			     unsigned long next, struct mm_walk *walk)
{
	struct pfn_collect *pc = walk->private;

	if (!pte_present(*pte))
		return -EFAULT;
	if (pc->nr == pc->max)
		return -ENOSPC;
	pc->pfns[pc->nr++] = pte_pfn(*pte);
	return 0;
}

static int collect_pte_hole(unsigned long addr, unsigned long next,
			    struct mm_walk *walk)
{
	return -EFAULT;
}

int collect_user_pfns(struct mm_struct *mm, unsigned long start,
		      unsigned long *pfns, unsigned int nr_pages)
{
	struct pfn_collect pc;
	struct mm_walk w;
	int ret;

	pc.pfns = pfns;
	pc.nr = 0;
	pc.max = nr_pages;

	memset(&w, 0, sizeof(w));
	w.pte_entry = collect_pte_entry;
	w.pte_hole = collect_pte_hole;
	w.mm = mm;
	w.private = &pc;

	down_read(&mm->mmap_sem);
	ret = walk_page_range(start, start + nr_pages * PAGE_SIZE, &w);
	up_read(&mm->mmap_sem);

	return ret ? ret : pc.nr;
}
