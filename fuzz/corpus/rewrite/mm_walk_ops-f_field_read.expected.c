/*
 * Case f: the walk's .mm and .private are read elsewhere in the function,
 * including inside the call's own arguments.  Each read is replaced by the
 * value stored in the field.
 */
#include <linux/mm.h>
#include <linux/string.h>

struct scan_result {
	unsigned long thp;
	unsigned long ptes;
	unsigned long holes;
};

static void scan_result_init(struct scan_result *res)
{
	memset(res, 0, sizeof(*res));
}

static int scan_pmd_entry(pmd_t *pmd, unsigned long addr, unsigned long end,
			  struct mm_walk *walk)
{
	struct scan_result *res = walk->private;

	if (pmd_trans_huge(*pmd))
		res->thp++;
	else if (!pmd_none(*pmd))
		res->ptes += (end - addr) >> PAGE_SHIFT;
	return 0;
}

static int scan_pte_hole(unsigned long addr, unsigned long next,
			 struct mm_walk *walk)
{
	struct scan_result *res = walk->private;

	res->holes++;
	return 0;
}

static const struct mm_walk_ops scan_mm_walk_ops = {
	.pmd_entry	= scan_pmd_entry,
	.pte_hole	= scan_pte_hole,
};

int scan_mm(struct mm_struct *mm, struct scan_result *res)
{
	int err;

	scan_result_init(res);
	down_read(&mm->mmap_sem);
	err = walk_page_range(mm, 0, mm->task_size, &scan_mm_walk_ops, res);
	up_read(&mm->mmap_sem);
	return err;
}
