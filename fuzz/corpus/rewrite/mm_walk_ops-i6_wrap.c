/*
 * Case i6: the converted call no longer fits in 80 columns and wraps at
 * argument boundaries over three lines, continuation lines aligned under
 * the first argument (tabs, then spaces).  The call is the condition of an
 * if statement with an opening brace, so ")) {" follows the last argument.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>

struct migration_candidates {
	unsigned long nr_pages;
	unsigned long nr_busy;
	int target_node;
};

static int migration_candidate_pte(pte_t *pte, unsigned long addr,
				   unsigned long next, struct mm_walk *walk)
{
	struct migration_candidates *mc = walk->private;
	struct page *page;

	if (!pte_present(*pte))
		return 0;
	page = vm_normal_page(walk->vma, addr, *pte);
	if (!page || page_to_nid(page) == mc->target_node)
		return 0;
	if (page_mapcount(page) > 1)
		mc->nr_busy++;
	else
		mc->nr_pages++;
	return 0;
}

int count_migration_candidates(struct task_struct *task, int target_node,
			       struct migration_candidates *candidates)
{
	struct mm_walk migration_candidate_walk = {
		.pte_entry = migration_candidate_pte,
		.private = candidates,
	};
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	int err = 0;

	mm = get_task_mm(task);
	if (!mm)
		return -ESRCH;
	candidates->target_node = target_node;
	migration_candidate_walk.mm = mm;

	down_read(&mm->mmap_sem);
	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (vma->vm_flags & (VM_IO | VM_PFNMAP))
			continue;
		if (!is_vm_hugetlb_page(vma)) {
			if (walk_page_range(vma->vm_start, vma->vm_end,
					    &migration_candidate_walk)) {
				err = -EFAULT;
				break;
			}
		}
	}
	up_read(&mm->mmap_sem);
	mmput(mm);
	return err;
}
