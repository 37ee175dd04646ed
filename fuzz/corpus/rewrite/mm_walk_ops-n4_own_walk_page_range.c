/*
 * Case n4 (must not fire): a file with its own static walk_page_range()
 * whose signature differs from the mm one; the calls take three arguments
 * like the old mm_walk API but are calls of that local function.  The file
 * does not include <linux/mm.h>, so nothing clashes with the mm prototype.
 */
#include <linux/kernel.h>
#include <linux/errno.h>

#define IOPT_PAGE_SHIFT	12
#define IOPT_PTES	512
#define IOPT_VALID	0x1ULL

struct iopt_dump {
	const u64 *table;
	unsigned long mapped;
	void *private;
};

static int walk_page_range(unsigned long start, unsigned long end,
			   struct iopt_dump *walk)
{
	unsigned long iova;

	if (end < start)
		return -EINVAL;
	for (iova = start; iova < end; iova += 1UL << IOPT_PAGE_SHIFT) {
		u64 pte = walk->table[(iova >> IOPT_PAGE_SHIFT) % IOPT_PTES];

		if (pte & IOPT_VALID)
			walk->mapped++;
	}
	return 0;
}

unsigned long iopt_count_mapped(const u64 *table, unsigned long start,
				unsigned long end)
{
	struct iopt_dump walk = {
		.table = table,
		.private = NULL,
	};

	if (walk_page_range(start, end, &walk))
		return 0;
	return walk.mapped;
}
