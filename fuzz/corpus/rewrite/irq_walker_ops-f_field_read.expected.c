/*
 * Case f: the walk's .domain and .cookie are read elsewhere in the
 * function, including after the call.  Each read is replaced by the value
 * stored in the field.
 */
#include <linux/irqwalk.h>

struct irq_summary {
	unsigned int count;
	unsigned int unhandled;
};

static void irq_summary_init(struct irq_summary *sum,
			     struct irq_domain *domain)
{
	sum->count = 0;
	sum->unhandled = 0;
	pr_debug("%s: summary start\n", domain->name);
}

static int summary_enter(struct irq_desc *desc, struct irq_walker *w)
{
	struct irq_summary *sum = w->cookie;

	sum->count++;
	sum->unhandled += desc->irqs_unhandled;
	return 0;
}

static const struct irq_walker_ops summary_walker_ops = {
	.enter	= summary_enter,
};

int summarize_domain(struct irq_domain *parent, struct irq_summary *sum)
{
	int ret;

	irq_summary_init(sum, parent);
	irq_domain_lock(parent);
	ret = irq_walk_tree(&summary_walker_ops, parent, sum, IRQ_WALK_ALL);
	irq_domain_unlock(parent);
	pr_info("%s: %u irqs\n", parent->name, sum->count);
	return ret;
}
