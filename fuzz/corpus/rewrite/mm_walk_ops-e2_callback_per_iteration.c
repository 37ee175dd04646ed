/*
 * Case e2: the pte_entry callback is switched on every loop iteration,
 * depending on the vma being walked.  As in e1, each distinct set of
 * callbacks gets an ops struct and the local ops pointer is assigned where
 * the callback was stored.
 */
#include <linux/mm.h>

struct pin_state {
	unsigned long pinned;
	unsigned long faulted;
};

static int pin_locked_pte(pte_t *pte, unsigned long addr,
			  unsigned long next, struct mm_walk *walk)
{
	struct pin_state *ps = walk->private;

	/* Locked vmas are fully populated: every pte must be present. */
	if (WARN_ON(!pte_present(*pte)))
		return -EFAULT;
	ps->pinned++;
	return 0;
}

static int pin_pte(pte_t *pte, unsigned long addr, unsigned long next,
		   struct mm_walk *walk)
{
	struct pin_state *ps = walk->private;

	if (pte_present(*pte))
		ps->pinned++;
	else
		ps->faulted++;
	return 0;
}

int pin_user_mappings(struct mm_struct *mm, unsigned long *pinned)
{
	struct pin_state state = { 0 };
	struct vm_area_struct *vma;
	struct mm_walk walk = {
		.mm = mm,
		.private = &state,
	};
	int err = 0;

	down_read(&mm->mmap_sem);
	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (is_vm_hugetlb_page(vma))
			continue;
		if (vma->vm_flags & VM_LOCKED)
			walk.pte_entry = pin_locked_pte;
		else
			walk.pte_entry = pin_pte;
		err = walk_page_range(vma->vm_start, vma->vm_end, &walk);
		if (err)
			break;
	}
	up_read(&mm->mmap_sem);

	*pinned = state.pinned;
	return err;
}
