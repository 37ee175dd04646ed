/*
 * Case x2 (flagged): .cookie gets a different value on each branch of an
 * if/else that reaches the call.  The site is the call.
 */
#include <linux/irqwalk.h>

struct unhandled_count {
	unsigned int nr;
};

static int unhandled_enter(struct irq_desc *desc, struct irq_walker *w)
{
	struct unhandled_count *uc = w->cookie;

	if (desc->irqs_unhandled)
		uc->nr++;
	return 0;
}

void count_unhandled(struct irq_desc *desc, struct unhandled_count *chained,
		     struct unhandled_count *plain)
{
	struct irq_walker walker = {
		.enter = unhandled_enter,
	};

	if (irq_desc_is_chained(desc))
		walker.cookie = chained;
	else
		walker.cookie = plain;

	irq_walk_desc(desc, &walker);
}
