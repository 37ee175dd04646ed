/*
 * Case i4: "err = walk_page_range(...);" inside a loop that walks the
 * range in chunks, dropping mmap_sem between them.
 */
#include <linux/mm.h>

#define CHUNK_SIZE	(64 * PMD_SIZE)

static int huge_pmd_entry(pmd_t *pmd, unsigned long addr, unsigned long next,
			 struct mm_walk *walk)
{
	unsigned long *nr_huge = walk->private;

	if (pmd_trans_huge(*pmd))
		(*nr_huge)++;
	return 0;
}

static const struct mm_walk_ops count_huge_pmds_walk_ops = {
	.pmd_entry	= huge_pmd_entry,
};

int count_huge_pmds(struct mm_struct *mm, unsigned long start,
		    unsigned long end, unsigned long *nr_huge)
{
	unsigned long next;
	int err = 0;

	*nr_huge = 0;
	for (; start < end; start = next) {
		next = min(end, start + CHUNK_SIZE);
		down_read(&mm->mmap_sem);
		err = walk_page_range(mm, start, next,
				      &count_huge_pmds_walk_ops, nr_huge);
		up_read(&mm->mmap_sem);
		if (err)
			break;
		cond_resched();
	}
	return err;
}
