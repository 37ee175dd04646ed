/*
 * Case h: walk_page_vma(vma, &walk).  The walker takes the mm from the
 * vma, so the stored .mm is not passed on: the call becomes
 * walk_page_vma(vma, &NAME, PRIVATE).
 */
#include <linux/mm.h>
#include <linux/string.h>

struct vma_usage {
	unsigned long rss;
	unsigned long anon;
	unsigned long thp;
};

static int usage_pmd_entry(pmd_t *pmd, unsigned long addr, unsigned long end,
			   struct mm_walk *walk)
{
	struct vma_usage *vu = walk->private;
	struct vm_area_struct *vma = walk->vma;
	struct page *page;
	spinlock_t *ptl;
	pte_t *pte;

	ptl = pmd_trans_huge_lock(pmd, vma);
	if (ptl) {
		vu->thp += PMD_SIZE >> PAGE_SHIFT;
		spin_unlock(ptl);
		return 0;
	}
	if (pmd_trans_unstable(pmd))
		return 0;

	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		if (!pte_present(*pte))
			continue;
		vu->rss++;
		page = vm_normal_page(vma, addr, *pte);
		if (page && PageAnon(page))
			vu->anon++;
	}
	pte_unmap_unlock(pte - 1, ptl);
	cond_resched();
	return 0;
}

void collect_vma_usage(struct vm_area_struct *vma, struct vma_usage *vu)
{
	struct mm_walk usage_walk = {
		.pmd_entry = usage_pmd_entry,
		.mm = vma->vm_mm,
		.private = vu,
	};

	memset(vu, 0, sizeof(*vu));
	walk_page_vma(vma, &usage_walk);
}
