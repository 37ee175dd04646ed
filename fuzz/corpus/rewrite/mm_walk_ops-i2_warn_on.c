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

void reset_young_bits(struct mm_struct *mm)
{
	struct mm_walk walk = {
		.pte_entry = reset_key_pte,
		.mm = mm,
	};

	down_write(&mm->mmap_sem);
	WARN_ON(walk_page_range(0, mm->task_size, &walk));
	up_write(&mm->mmap_sem);
	flush_tlb_mm(mm);
}
