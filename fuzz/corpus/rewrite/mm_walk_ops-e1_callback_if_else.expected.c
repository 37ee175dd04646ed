/*
 * Case e1: the pmd_entry callback is chosen at run time under if/else.
 * Each distinct set of callbacks gets its own ops struct (NAME, NAME_2, in
 * order of first appearance, one blank line between them), a local
 * "const struct mm_walk_ops *ops;" replaces the walk's declaration, each
 * store of the callback becomes "ops = &NAME;", and the call passes ops.
 */
#include <linux/mm.h>

struct reclaim_stats {
	unsigned long isolated;
	unsigned long deactivated;
	unsigned long skipped;
};

static int reclaim_pageout_pmd(pmd_t *pmd, unsigned long addr,
			       unsigned long end, struct mm_walk *walk)
{
	struct reclaim_stats *rs = walk->private;
	struct vm_area_struct *vma = walk->vma;
	struct page *page;
	spinlock_t *ptl;
	pte_t *pte;

	if (pmd_trans_unstable(pmd))
		return 0;
	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	for (; addr < end; pte++, addr += PAGE_SIZE) {
		if (!pte_present(*pte))
			continue;
		page = vm_normal_page(vma, addr, *pte);
		if (!page || !PageLRU(page))
			continue;
		rs->isolated++;
	}
	pte_unmap_unlock(pte - 1, ptl);
	return 0;
}

static int reclaim_cold_pmd(pmd_t *pmd, unsigned long addr,
			    unsigned long end, struct mm_walk *walk)
{
	struct reclaim_stats *rs = walk->private;
	struct vm_area_struct *vma = walk->vma;
	spinlock_t *ptl;
	pte_t *pte;

	if (pmd_trans_unstable(pmd))
		return 0;
	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	for (; addr < end; pte++, addr += PAGE_SIZE) {
		if (!pte_present(*pte))
			continue;
		if (ptep_test_and_clear_young(vma, addr, pte))
			rs->deactivated++;
	}
	pte_unmap_unlock(pte - 1, ptl);
	return 0;
}

static int reclaim_pte_hole(unsigned long addr, unsigned long next,
			    struct mm_walk *walk)
{
	struct reclaim_stats *rs = walk->private;

	rs->skipped += (next - addr) >> PAGE_SHIFT;
	return 0;
}

static const struct mm_walk_ops madvise_reclaim_walk_ops = {
	.pte_hole	= reclaim_pte_hole,
	.pmd_entry	= reclaim_pageout_pmd,
};

static const struct mm_walk_ops madvise_reclaim_walk_ops_2 = {
	.pte_hole	= reclaim_pte_hole,
	.pmd_entry	= reclaim_cold_pmd,
};

void madvise_reclaim(struct vm_area_struct *vma, unsigned long start,
		     unsigned long end, bool pageout)
{
	struct reclaim_stats stats = { 0 };
	const struct mm_walk_ops *ops;

	if (pageout)
		ops = &madvise_reclaim_walk_ops;
	else
		ops = &madvise_reclaim_walk_ops_2;

	lru_add_drain();
	walk_page_range(vma->vm_mm, start, end, ops, &stats);
	pr_debug("reclaim: %lu isolated, %lu deactivated, %lu skipped\n",
		 stats.isolated, stats.deactivated, stats.skipped);
}
