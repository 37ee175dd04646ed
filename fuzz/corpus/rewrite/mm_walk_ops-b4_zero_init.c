/*
 * Case b4: "struct mm_walk walk = {0};" followed by field stores.
 * Decision: "fits in 80 columns" means at most 80; the converted call is
 * exactly 80 columns wide and stays on one line.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>

static int age_pmd_range(pmd_t *pmd, unsigned long addr, unsigned long end,
			 struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;
	unsigned long *aged = walk->private;
	spinlock_t *ptl;
	pte_t *pte;

	ptl = pmd_trans_huge_lock(pmd, vma);
	if (ptl) {
		if (pmd_young(*pmd))
			(*aged)++;
		spin_unlock(ptl);
		return 0;
	}
	if (pmd_trans_unstable(pmd))
		return 0;

	pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		if (!pte_present(*pte))
			continue;
		if (ptep_test_and_clear_young(vma, addr, pte))
			(*aged)++;
	}
	pte_unmap_unlock(pte - 1, ptl);
	cond_resched();
	return 0;
}

unsigned long age_task_memory(struct task_struct *task)
{
	struct mm_walk walk = {0};
	struct mm_struct *mm;
	unsigned long aged = 0;

	mm = get_task_mm(task);
	if (!mm)
		return 0;

	walk.pmd_entry = age_pmd_range;
	walk.mm = mm;
	walk.private = &aged;

	down_read(&mm->mmap_sem);
	walk_page_range(0, mm->task_size, &walk);
	up_read(&mm->mmap_sem);
	mmput(mm);
	return aged;
}
