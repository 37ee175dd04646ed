/*
 * Case i3: "return walk_page_range(...);".  The function's name ends in
 * _walk and the walk variable is generic, so the ops struct is
 * clear_young_walk_ops (not clear_young_walk_walk_ops).
 */
#include <linux/mm.h>

static int clear_young_pte(pte_t *pte, unsigned long addr,
			   unsigned long next, struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->private;

	if (pte_present(*pte))
		ptep_test_and_clear_young(vma, addr, pte);
	return 0;
}

int clear_young_walk(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end)
{
	struct mm_walk walk = {
		.pte_entry = clear_young_pte,
		.mm = vma->vm_mm,
		.private = vma,
	};

	if (start < vma->vm_start || end > vma->vm_end)
		return -EINVAL;
	return walk_page_range(start, end, &walk);
}
