/*
 * Case p1: the API definition in a header.  The callbacks move into a new
 * struct mm_walk_ops right above struct mm_walk, with their kernel-doc;
 * struct mm_walk keeps the walk state and gains the ops pointer; the two
 * prototypes take mm, the ops and the private pointer.
 */
#include <linux/mm_types.h>
#include <linux/pgtable.h>

struct mmu_gather;

struct mm_walk;

/**
 * mm_walk_ops - callbacks for walk_page_range
 * @pud_entry: if set, called for each non-empty PUD entry
 * @pmd_entry: if set, called for each non-empty PMD entry;
 *	       it must cope with huge PMDs itself
 * @pte_entry: if set, called for each non-empty PTE
 * @pte_hole: if set, called for each hole at all levels
 * @hugetlb_entry: if set, called for each hugetlb entry
 * @test_walk: decides whether to walk the current vma: 0 walks it,
 *	       1 skips it, a negative value aborts the walk
 */
struct mm_walk_ops {
	int (*pud_entry)(pud_t *pud, unsigned long addr,
			 unsigned long next, struct mm_walk *walk);
	int (*pmd_entry)(pmd_t *pmd, unsigned long addr,
			 unsigned long next, struct mm_walk *walk);
	int (*pte_entry)(pte_t *pte, unsigned long addr,
			 unsigned long next, struct mm_walk *walk);
	int (*pte_hole)(unsigned long addr, unsigned long next,
			struct mm_walk *walk);
	int (*hugetlb_entry)(pte_t *pte, unsigned long hmask,
			     unsigned long addr, unsigned long next,
			     struct mm_walk *walk);
	int (*test_walk)(unsigned long addr, unsigned long next,
			 struct mm_walk *walk);
};

/**
 * mm_walk - walk_page_range data
 * @ops: operations to call during the walk
 * @mm: the address space being walked
 * @vma: the vma being walked, NULL outside vmas
 * @private: data for the callbacks
 *
 * The walker fills @vma itself.
 */
struct mm_walk {
	const struct mm_walk_ops *ops;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	void *private;
};

void unmap_range(struct mmu_gather *tlb, unsigned long start,
		 unsigned long end);
int walk_page_range(struct mm_struct *mm, unsigned long addr, unsigned long end,
		    const struct mm_walk_ops *ops, void *private);
int walk_page_vma(struct vm_area_struct *vma, const struct mm_walk_ops *ops,
		  void *private);
