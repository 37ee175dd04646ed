/*
 * Case n3 (must not fire): struct mm_walk and walk_page_range() appear only
 * in comments and string literals.  Before v5.4 a caller would have said
 *
 *   struct mm_walk walk = { .pte_entry = f, .mm = mm, .private = p };
 *   walk_page_range(start, end, &walk);
 */
#include <linux/mm.h>

static const char walk_api_doc[] =
	"walk_page_range(start, end, &walk) with a struct mm_walk walk";

/* Report a failed walk_page_range(start, end, &walk) call. */
void report_walk_failure(int err, unsigned long start, unsigned long end)
{
	// struct mm_walk walk = {}; walk_page_vma(vma, &walk);
	pr_warn("walk_page_range(%lx, %lx, &walk) failed: %d\n",
		start, end, err);
	pr_info("see %s; .mm = mm, .private = &walk\n", walk_api_doc);
}
