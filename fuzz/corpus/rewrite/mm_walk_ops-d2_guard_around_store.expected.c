/*
 * Case d2: #ifdef CONFIG_HUGETLB_PAGE around a store statement.  The ops
 * struct keeps the guard around that member; the #ifdef/#endif pair, left
 * empty once the store is deleted, is deleted too.
 */
#include <linux/mm.h>
#include <linux/hugetlb.h>

struct lock_count {
	unsigned long locked;
};

static int lock_count_pmd(pmd_t *pmd, unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	struct lock_count *lc = walk->private;
	spinlock_t *ptl;
	pte_t *pte;

	if (pmd_trans_unstable(pmd))
		return 0;
	pte = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE)
		if (pte_present(*pte))
			lc->locked++;
	pte_unmap_unlock(pte - 1, ptl);
	return 0;
}

#ifdef CONFIG_HUGETLB_PAGE
static int lock_count_hugetlb(pte_t *pte, unsigned long hmask,
			      unsigned long addr, unsigned long end,
			      struct mm_walk *walk)
{
	struct lock_count *lc = walk->private;

	if (pte_present(huge_ptep_get(pte)))
		lc->locked += (end - addr) >> PAGE_SHIFT;
	return 0;
}
#endif

static const struct mm_walk_ops count_locked_pages_walk_ops = {
	.pmd_entry	= lock_count_pmd,
#ifdef CONFIG_HUGETLB_PAGE
	.hugetlb_entry	= lock_count_hugetlb,
#endif
};

unsigned long count_locked_pages(struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	struct lock_count lc = { 0 };

	down_read(&mm->mmap_sem);
	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (!(vma->vm_flags & VM_LOCKED))
			continue;
		walk_page_range(mm, vma->vm_start, vma->vm_end,
				&count_locked_pages_walk_ops, &lc);
	}
	up_read(&mm->mmap_sem);
	return lc.locked;
}
