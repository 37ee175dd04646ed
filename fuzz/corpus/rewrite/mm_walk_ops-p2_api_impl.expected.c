/*
 * Case p2: the API implementation.  Every callback reached through a
 * struct mm_walk pointer goes through ->ops; each entry point takes the
 * new arguments and builds the walk as a local (walk_page_vma takes mm
 * from the vma); inside them walk->x becomes walk.x and the walk is
 * passed on by address.  The kernel-doc names the new parameters.
 */
#include <linux/mm.h>

static int walk_ptes(pmd_t *pmd, unsigned long addr, unsigned long end,
		     struct mm_walk *walk)
{
	pte_t *pte = pte_offset_map(pmd, addr);
	int err = 0;

	for (; addr < end; addr += PAGE_SIZE, pte++) {
		err = walk->ops->pte_entry(pte, addr, addr + PAGE_SIZE, walk);
		if (err)
			break;
	}
	return err;
}

static int walk_range(unsigned long addr, unsigned long end,
		      struct mm_walk *walk)
{
	pmd_t pmd = { 0 };

	if (walk->ops->pmd_entry)
		return walk->ops->pmd_entry(&pmd, addr, end, walk);
	if (walk->ops->pte_entry)
		return walk_ptes(&pmd, addr, end, walk);
	if (walk->ops->pte_hole)
		return walk->ops->pte_hole(addr, end, walk);
	return 0;
}

static int walk_test(unsigned long start, unsigned long end,
		     struct mm_walk *walk)
{
	if (walk->ops->test_walk)
		return walk->ops->test_walk(start, end, walk);
	return 0;
}

/**
 * walk_page_range - walk the page tables of a range of user memory
 * @start: first address of the range
 * @end: end of the range (exclusive)
 * @mm: mm_struct representing the target process of page table walk
 * @ops: operations to call during the walk
 * @private: private data for callbacks' usage
 *
 * Return: 0, or the first non-zero value a callback returned.
 */
int walk_page_range(struct mm_struct *mm, unsigned long start,
		    unsigned long end, const struct mm_walk_ops *ops,
		    void *private)
{
	struct mm_walk walk = {
		.ops		= ops,
		.mm		= mm,
		.private	= private,
	};
	struct vm_area_struct *vma;
	int err;

	if (start >= end || !walk.mm)
		return -EINVAL;
	vma = find_vma(walk.mm, start);
	walk.vma = vma;
	err = walk_test(start, end, &walk);
	if (err)
		return err < 0 ? err : 0;
	return walk_range(start, end, &walk);
}

int walk_page_vma(struct vm_area_struct *vma, const struct mm_walk_ops *ops,
		  void *private)
{
	struct mm_walk walk = {
		.ops		= ops,
		.mm		= vma->vm_mm,
		.private	= private,
	};
	int err;

	if (!walk.mm)
		return -EINVAL;
	walk.vma = vma;
	err = walk_test(vma->vm_start, vma->vm_end, &walk);
	if (err)
		return err < 0 ? err : 0;
	return walk_range(vma->vm_start, vma->vm_end, &walk);
}
