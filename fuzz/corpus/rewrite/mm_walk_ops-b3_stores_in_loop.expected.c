/*
 * Case b3: stores inside the loop that contains the call.  .private is
 * stored again on every iteration of the outer loop, so each call gets the
 * value stored just before it.
 */
#include <linux/mm.h>
#include <linux/nodemask.h>

struct node_usage {
	int nid;
	unsigned long pages;
};

static int node_usage_pte(pte_t *pte, unsigned long addr,
			  unsigned long next, struct mm_walk *walk)
{
	struct node_usage *nu = walk->private;
	struct page *page;

	if (!pte_present(*pte))
		return 0;
	page = vm_normal_page(walk->vma, addr, *pte);
	if (page && page_to_nid(page) == nu->nid)
		nu->pages++;
	return 0;
}

static const struct mm_walk_ops mm_node_usage_walk_ops = {
	.pte_entry	= node_usage_pte,
};

void mm_node_usage(struct mm_struct *mm, struct node_usage *usage)
{
	struct vm_area_struct *vma;
	int nid;

	down_read(&mm->mmap_sem);
	for_each_node_state(nid, N_MEMORY) {
		usage[nid].nid = nid;
		usage[nid].pages = 0;
		for (vma = mm->mmap; vma; vma = vma->vm_next)
			walk_page_range(mm, vma->vm_start, vma->vm_end,
					&mm_node_usage_walk_ops, &usage[nid]);
	}
	up_read(&mm->mmap_sem);
}
