/*
 * Case g3: the walk is declared in a loop body.  Deleting it would leave a
 * blank line right after the loop's "{", so that blank line goes too.
 */
#include <linux/mm.h>

static int unlocked_pte_entry(pte_t *pte, unsigned long addr,
			      unsigned long next, struct mm_walk *walk)
{
	unsigned long *bad = walk->private;

	if (!pte_present(*pte))
		(*bad)++;
	return 0;
}

static int unlocked_pte_hole(unsigned long addr, unsigned long next,
			     struct mm_walk *walk)
{
	unsigned long *bad = walk->private;

	*bad += (next - addr) >> PAGE_SHIFT;
	return 0;
}

static const struct mm_walk_ops mlock_check_walk_ops = {
	.pte_entry	= unlocked_pte_entry,
	.pte_hole	= unlocked_pte_hole,
};

/* Count the pages of mlocked vmas that are not resident. */
unsigned long mlock_check(struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	unsigned long bad = 0;

	down_read(&mm->mmap_sem);
	for (vma = mm->mmap; vma; vma = vma->vm_next) {
		if (!(vma->vm_flags & VM_LOCKED))
			continue;
		walk_page_range(mm, vma->vm_start, vma->vm_end,
				&mlock_check_walk_ops, &bad);
	}
	up_read(&mm->mmap_sem);
	return bad;
}
