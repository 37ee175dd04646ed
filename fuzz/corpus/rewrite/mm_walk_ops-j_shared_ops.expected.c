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

static const struct mm_walk_ops count_vma_swap_walk_ops = {
	.pte_entry	= swap_pte_entry,
};

/* Number of swapped-out pages in @vma. */
unsigned long count_vma_swap(struct vm_area_struct *vma)
{
	unsigned long swapped = 0;

	walk_page_vma(vma, &count_vma_swap_walk_ops, &swapped);
	return swapped;
}

/* Number of swapped-out pages in [@start, @end) of @mm. */
unsigned long count_range_swap(struct mm_struct *mm, unsigned long start,
			       unsigned long end)
{
	unsigned long swapped = 0;

	down_read(&mm->mmap_sem);
	walk_page_range(mm, start, end, &count_vma_swap_walk_ops, &swapped);
	up_read(&mm->mmap_sem);
	return swapped;
}
