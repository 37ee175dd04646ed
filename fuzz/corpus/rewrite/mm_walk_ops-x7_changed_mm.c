/*
 * Case x7 (flagged): .mm = mm is stored, then mm is reassigned before the
 * call, so passing mm at the call would pass the new value.  The site is
 * the call.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>

static int count_pte(pte_t *pte, unsigned long addr, unsigned long next,
		     struct mm_walk *walk)
{
	unsigned long *nr = walk->private;

	if (pte_present(*pte))
		(*nr)++;
	return 0;
}

unsigned long task_rss_range(struct task_struct *task, unsigned long start,
			     unsigned long end)
{
	struct mm_struct *mm = current->mm;
	unsigned long nr = 0;
	struct mm_walk walk = {
		.pte_entry = count_pte,
		.mm = mm,
		.private = &nr,
	};

	if (task != current) {
		mm = get_task_mm(task);
		if (!mm)
			return 0;
	}
	down_read(&mm->mmap_sem);
	walk_page_range(start, end, &walk);
	up_read(&mm->mmap_sem);
	if (task != current)
		mmput(mm);
	return nr;
}
