/*
 * Case n5 (must not fire): callbacks that take struct mm_walk *walk and
 * read walk->private, walk->vma and walk->mm, with no walk set up in this
 * file (they are used from another file).
 */
#include <linux/mm.h>

struct young_stats {
	unsigned long young;
	unsigned long old;
};

int young_pte_entry(pte_t *pte, unsigned long addr, unsigned long next,
		    struct mm_walk *walk)
{
	struct young_stats *ys = walk->private;

	if (!pte_present(*pte))
		return 0;
	if (ptep_test_and_clear_young(walk->vma, addr, pte))
		ys->young++;
	else
		ys->old++;
	return 0;
}

int young_pmd_entry(pmd_t *pmd, unsigned long addr, unsigned long next,
		    struct mm_walk *walk)
{
	struct young_stats *ys = walk->private;
	spinlock_t *ptl;

	ptl = pmd_trans_huge_lock(pmd, walk->vma);
	if (!ptl)
		return 0;
	if (pmd_young(*pmd))
		ys->young += PMD_SIZE >> PAGE_SHIFT;
	spin_unlock(ptl);
	return 0;
}

int young_test_walk(unsigned long start, unsigned long end,
		    struct mm_walk *walk)
{
	if (walk->vma->vm_mm != walk->mm)
		return -EINVAL;
	return (walk->vma->vm_flags & VM_PFNMAP) ? 1 : 0;
}
