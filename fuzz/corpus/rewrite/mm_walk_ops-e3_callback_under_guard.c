/*
 * Case e3: a callback chosen at run time inside a preprocessor conditional,
 * with another member guarded inside the initializer (the smaps shape).
 * Each ops struct keeps the member guard, the one only used under
 * CONFIG_SHMEM sits under CONFIG_SHMEM itself (its callback only exists
 * there, and an unused static const would warn), and the ops pointer is
 * switched where the callback was stored.
 */
#include <linux/mm.h>

struct usage_stats {
	unsigned long resident;
	unsigned long huge;
	unsigned long swap;
	bool check_swap;
};

static int usage_pmd_range(pmd_t *pmd, unsigned long addr, unsigned long end,
			   struct mm_walk *walk)
{
	struct usage_stats *us = walk->private;

	us->resident += (end - addr) >> PAGE_SHIFT;
	return 0;
}

#ifdef CONFIG_HUGETLB_PAGE
static int usage_hugetlb_range(pte_t *pte, unsigned long hmask,
			       unsigned long addr, unsigned long end,
			       struct mm_walk *walk)
{
	struct usage_stats *us = walk->private;

	us->huge += (end - addr) >> PAGE_SHIFT;
	return 0;
}
#endif

#ifdef CONFIG_SHMEM
static int usage_pte_hole(unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	struct usage_stats *us = walk->private;

	us->swap += (end - addr) >> PAGE_SHIFT;
	return 0;
}
#endif

static void usage_gather(struct vm_area_struct *vma, struct usage_stats *us)
{
	struct mm_walk usage_walk = {
		.pmd_entry = usage_pmd_range,
#ifdef CONFIG_HUGETLB_PAGE
		.hugetlb_entry = usage_hugetlb_range,
#endif
		.mm = vma->vm_mm,
	};

	usage_walk.private = us;

#ifdef CONFIG_SHMEM
	us->check_swap = false;
	if (vma->vm_flags & VM_SHARED) {
		us->swap = 0;
	} else {
		us->check_swap = true;
		usage_walk.pte_hole = usage_pte_hole;
	}
#endif
	walk_page_vma(vma, &usage_walk);
}

unsigned long usage_resident(struct vm_area_struct *vma)
{
	struct usage_stats us = { 0 };

	usage_gather(vma, &us);
	return us.resident;
}
