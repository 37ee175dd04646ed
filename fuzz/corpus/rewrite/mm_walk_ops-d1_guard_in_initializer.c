/*
 * Case d1: #ifdef CONFIG_HUGETLB_PAGE around a member inside the
 * initializer.  The ops struct keeps the same guard around that member.
 */
#include <linux/mm.h>
#include <linux/hugetlb.h>

struct dirty_scan {
	unsigned long dirty;
};

static int dirty_pte_entry(pte_t *pte, unsigned long addr,
			   unsigned long next, struct mm_walk *walk)
{
	struct dirty_scan *ds = walk->private;

	if (pte_present(*pte) && pte_dirty(*pte))
		ds->dirty++;
	return 0;
}

#ifdef CONFIG_HUGETLB_PAGE
static int dirty_hugetlb_entry(pte_t *pte, unsigned long hmask,
			       unsigned long addr, unsigned long next,
			       struct mm_walk *walk)
{
	struct dirty_scan *ds = walk->private;
	pte_t entry = huge_ptep_get(pte);

	if (pte_present(entry) && pte_dirty(entry))
		ds->dirty += (next - addr) >> PAGE_SHIFT;
	return 0;
}
#endif

unsigned long count_dirty_pages(struct vm_area_struct *vma)
{
	struct dirty_scan ds = { 0 };
	struct mm_walk dirty_walk = {
		.pte_entry = dirty_pte_entry,
#ifdef CONFIG_HUGETLB_PAGE
		.hugetlb_entry = dirty_hugetlb_entry,
#endif
		.mm = vma->vm_mm,
		.private = &ds,
	};

	walk_page_range(vma->vm_start, vma->vm_end, &dirty_walk);
	return ds.dirty;
}
