/*
 * Case i5: old calls split over several lines.  The new call is laid out
 * afresh by the 80-column rule; the old line breaks are not kept: the
 * first call fits on one line once converted, the second wraps again.
 */
#include <linux/mm.h>

struct probe_result {
	unsigned long pfn;
	bool writable;
};

static int probe_pte_entry(pte_t *pte, unsigned long addr,
			   unsigned long next, struct mm_walk *walk)
{
	struct probe_result *pr = walk->private;

	if (!pte_present(*pte))
		return -EFAULT;
	pr->pfn = pte_pfn(*pte);
	pr->writable = pte_write(*pte);
	return 0;
}

static const struct mm_walk_ops probe_ops = {
	.pte_entry	= probe_pte_entry,
};

int probe_user_page(struct mm_struct *mm, unsigned long addr,
		    struct probe_result *pr)
{
	unsigned long start = addr & PAGE_MASK;
	int err;

	down_read(&mm->mmap_sem);
	err = walk_page_range(mm, start, start + PAGE_SIZE, &probe_ops, pr);
	/* Report the page below when addr itself is not mapped. */
	if (err == -EFAULT && start >= PAGE_SIZE)
		err = walk_page_range(mm, start - PAGE_SIZE, start, &probe_ops,
				      pr);
	up_read(&mm->mmap_sem);
	return err;
}
