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

int summarize_domain(struct irq_domain *parent, struct irq_summary *sum)
{
	struct irq_walker summary_walker = {
		.enter = summary_enter,
		.domain = parent,
		.cookie = sum,
	};
	int ret;

	irq_summary_init(summary_walker.cookie, summary_walker.domain);
	irq_domain_lock(summary_walker.domain);
	ret = irq_walk_tree(IRQ_WALK_ALL, &summary_walker);
	irq_domain_unlock(summary_walker.domain);
	pr_info("%s: %u irqs\n", summary_walker.domain->name, sum->count);
	return ret;
}
