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
		err = walk->pte_entry(pte, addr, addr + PAGE_SIZE, walk);
		if (err)
			break;
	}
	return err;
}

static int walk_range(unsigned long addr, unsigned long end,
		      struct mm_walk *walk)
{
	pmd_t pmd = { 0 };

	if (walk->pmd_entry)
		return walk->pmd_entry(&pmd, addr, end, walk);
	if (walk->pte_entry)
		return walk_ptes(&pmd, addr, end, walk);
	if (walk->pte_hole)
		return walk->pte_hole(addr, end, walk);
	return 0;
}

static int walk_test(unsigned long start, unsigned long end,
		     struct mm_walk *walk)
{
	if (walk->test_walk)
		return walk->test_walk(start, end, walk);
	return 0;
}

/**
 * walk_page_range - walk the page tables of a range of user memory
 * @start: first address of the range
 * @end: end of the range (exclusive)
 * @walk: the callbacks and the address space to walk,
 *	  with data for the callbacks
 *
 * Return: 0, or the first non-zero value a callback returned.
 */
int walk_page_range(unsigned long start, unsigned long end,
		    struct mm_walk *walk)
{
	struct vm_area_struct *vma;
	int err;

	if (start >= end || !walk->mm)
		return -EINVAL;
	vma = find_vma(walk->mm, start);
	walk->vma = vma;
	err = walk_test(start, end, walk);
	if (err)
		return err < 0 ? err : 0;
	return walk_range(start, end, walk);
}

int walk_page_vma(struct vm_area_struct *vma, struct mm_walk *walk)
{
	int err;

	if (!walk->mm)
		return -EINVAL;
	walk->vma = vma;
	err = walk_test(vma->vm_start, vma->vm_end, walk);
	if (err)
		return err < 0 ? err : 0;
	return walk_range(vma->vm_start, vma->vm_end, walk);
}
