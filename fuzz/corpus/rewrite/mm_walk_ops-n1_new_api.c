/* compile: new */
/*
 * Case n1 (must not fire): code already written against the v5.4 API.
 * The last function builds a local struct mm_walk that sets .ops, as the
 * walker core does; a walk that sets .ops is new-API code.
 */
#include <linux/mm.h>

static int present_pte_entry(pte_t *pte, unsigned long addr,
			     unsigned long next, struct mm_walk *walk)
{
	unsigned long *count = walk->private;

	if (pte_present(*pte))
		(*count)++;
	return 0;
}

static const struct mm_walk_ops present_walk_ops = {
	.pte_entry	= present_pte_entry,
};

int count_present(struct mm_struct *mm, unsigned long start,
		  unsigned long end, unsigned long *count)
{
	int err;

	down_read(&mm->mmap_sem);
	err = walk_page_range(mm, start, end, &present_walk_ops, count);
	up_read(&mm->mmap_sem);
	return err;
}

int count_present_vma(struct vm_area_struct *vma, unsigned long *count)
{
	return walk_page_vma(vma, &present_walk_ops, count);
}

static int call_pte_entry(struct mm_walk *walk, pte_t *pte, unsigned long addr)
{
	if (!walk->ops->pte_entry)
		return 0;
	return walk->ops->pte_entry(pte, addr, addr + PAGE_SIZE, walk);
}

int count_present_one(struct vm_area_struct *vma, pte_t *pte,
		      unsigned long addr, unsigned long *count)
{
	struct mm_walk walk = {
		.ops = &present_walk_ops,
		.mm = vma->vm_mm,
		.vma = vma,
		.private = count,
	};

	return call_pte_entry(&walk, pte, addr);
}
