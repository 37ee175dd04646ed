/*
 * Case x1 (flagged): the walk's address is passed to a helper before the
 * call, so the helper may change any field.  The site is the entry-point call; the message names the helper call.
 */
#include <linux/irqwalk.h>

static int default_enter(struct irq_desc *desc, struct irq_walker *w)
{
	unsigned int *n = w->cookie;

	(*n)++;
	return 0;
}

static void walker_set_default_domain(struct irq_walker *w)
{
	if (!w->domain)
		w->domain = irq_get_default_host();
}

unsigned int count_default_irqs(struct irq_domain *domain)
{
	unsigned int n = 0;
	struct irq_walker walker = {
		.enter = default_enter,
		.domain = domain,
		.cookie = &n,
	};

	walker_set_default_domain(&walker);
	irq_walk_tree(IRQ_WALK_ALL, &walker);
	return n;
}
