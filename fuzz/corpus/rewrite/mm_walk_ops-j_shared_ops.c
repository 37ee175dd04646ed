/*
 * Case j: two functions whose walks have identical members.  The ops
 * struct is defined once, before the first function that uses it, named
 * after that first walk (count_vma_swap_walk_ops), and the second function
 * uses it too instead of defining swap_walk_ops.
 */
#include <linux/mm.h>

static int swap_pte_entry(pte_t *pte, unsigned long addr,
			  unsigned long next, struct mm_walk *walk)
{
	unsigned long *swapped = walk->private;

	if (!pte_none(*pte) && !pte_present(*pte))
		(*swapped)++;
	return 0;
}

/* Number of swapped-out pages in @vma. */
unsigned long count_vma_swap(struct vm_area_struct *vma)
{
	unsigned long swapped = 0;
	struct mm_walk walk = {
		.pte_entry = swap_pte_entry,
		.mm = vma->vm_mm,
		.private = &swapped,
	};

	walk_page_vma(vma, &walk);
	return swapped;
}

/* Number of swapped-out pages in [@start, @end) of @mm. */
unsigned long count_range_swap(struct mm_struct *mm, unsigned long start,
			       unsigned long end)
{
	unsigned long swapped = 0;
	struct mm_walk swap_walk = {
		.pte_entry = swap_pte_entry,
		.mm = mm,
		.private = &swapped,
	};

	down_read(&mm->mmap_sem);
	walk_page_range(start, end, &swap_walk);
	up_read(&mm->mmap_sem);
	return swapped;
}
