/*
 * Case i2: the call is the argument of WARN_ON().
 */
#include <linux/mm.h>

static int reset_key_pte(pte_t *pte, unsigned long addr,
			 unsigned long next, struct mm_walk *walk)
{
	pte_t ptent = *pte;

	if (pte_present(ptent) && pte_young(ptent))
		set_pte_at(walk->mm, addr, pte, pte_mkold(ptent));
	return 0;
}

static const struct mm_walk_ops reset_young_bits_walk_ops = {
	.pte_entry	= reset_key_pte,
};

void reset_young_bits(struct mm_struct *mm)
{
	down_write(&mm->mmap_sem);
	WARN_ON(walk_page_range(mm, 0, mm->task_size,
				&reset_young_bits_walk_ops, NULL));
	up_write(&mm->mmap_sem);
	flush_tlb_mm(mm);
}
