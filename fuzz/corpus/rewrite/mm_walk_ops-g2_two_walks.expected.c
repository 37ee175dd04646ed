/*
 * Case g2: two walks in one function.  Each gets its own ops struct, named
 * after its variable; the ops structs are emitted in the order in which
 * the walks are declared.
 */
#include <linux/mm.h>

struct rss_count {
	unsigned long resident;
	unsigned long swapped;
};

struct mm_report {
	struct rss_count anon;
	struct rss_count shared;
};

static int report_anon_pte(pte_t *pte, unsigned long addr,
			   unsigned long next, struct mm_walk *walk)
{
	struct rss_count *rc = walk->private;

	if (pte_present(*pte))
		rc->resident++;
	else if (!pte_none(*pte))
		rc->swapped++;
	return 0;
}

static int report_shared_pte(pte_t *pte, unsigned long addr,
			     unsigned long next, struct mm_walk *walk)
{
	struct rss_count *rc = walk->private;
	struct page *page;

	if (!pte_present(*pte))
		return 0;
	page = vm_normal_page(walk->vma, addr, *pte);
	if (page && page_mapcount(page) > 1)
		rc->resident++;
	return 0;
}

static int report_shared_hole(unsigned long addr, unsigned long next,
			      struct mm_walk *walk)
{
	cond_resched();
	return 0;
}

static const struct mm_walk_ops anon_walk_ops = {
	.pte_entry	= report_anon_pte,
};

static const struct mm_walk_ops shared_walk_ops = {
	.pte_entry	= report_shared_pte,
	.pte_hole	= report_shared_hole,
};

void collect_mm_report(struct mm_struct *mm, struct mm_report *rep)
{
	struct vm_area_struct *vma;

	down_read(&mm->mmap_sem);
	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (vma->vm_flags & VM_SHARED)
			walk_page_range(mm, vma->vm_start, vma->vm_end,
					&shared_walk_ops, &rep->shared);
		else
			walk_page_range(mm, vma->vm_start, vma->vm_end,
					&anon_walk_ops, &rep->anon);
	}
	up_read(&mm->mmap_sem);
}
