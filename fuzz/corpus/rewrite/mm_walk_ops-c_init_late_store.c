/*
 * Case c: the initializer sets the callbacks and .private; .mm is stored
 * later, after early returns and a goto.  On one line the converted call
 * would be 81 columns wide, so it wraps.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>

struct wp_ctx {
	unsigned long nr_protected;
	bool dry_run;
};

static int wp_pte_entry(pte_t *pte, unsigned long addr, unsigned long next,
			struct mm_walk *walk)
{
	struct wp_ctx *ctx = walk->private;
	pte_t ptent = *pte;

	if (!pte_present(ptent) || !pte_write(ptent))
		return 0;
	if (!ctx->dry_run) {
		ptent = ptep_get_and_clear(walk->mm, addr, pte);
		set_pte_at(walk->mm, addr, pte, pte_wrprotect(ptent));
	}
	ctx->nr_protected++;
	return 0;
}

static int wp_test_walk(unsigned long start, unsigned long end,
			struct mm_walk *walk)
{
	struct vm_area_struct *vma = walk->vma;

	/* Shared and special mappings are left alone: 1 skips the vma. */
	if (vma->vm_flags & (VM_SHARED | VM_PFNMAP | VM_IO))
		return 1;
	return 0;
}

long task_write_protect(struct task_struct *task, bool dry_run)
{
	struct wp_ctx ctx = {
		.dry_run = dry_run,
	};
	struct mm_walk w = {
		.pte_entry = wp_pte_entry,
		.test_walk = wp_test_walk,
		.private = &ctx,
	};
	struct mm_struct *mm;
	long ret;

	if (!task)
		return -ESRCH;

	mm = get_task_mm(task);
	if (!mm)
		return -ESRCH;

	if (down_write_killable(&mm->mmap_sem)) {
		ret = -EINTR;
		goto out_mmput;
	}

	w.mm = mm;
	ret = walk_page_range(0, mm->task_size, &w);
	if (!ret && !dry_run)
		flush_tlb_mm(mm);
	up_write(&mm->mmap_sem);
	if (!ret)
		ret = ctx.nr_protected;
out_mmput:
	mmput(mm);
	return ret;
}
