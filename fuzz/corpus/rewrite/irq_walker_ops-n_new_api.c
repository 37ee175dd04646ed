/* compile: new */
/*
 * Case n (must not fire): code already written against the new API.  The
 * last function builds a local struct irq_walker that sets .ops, as the
 * walker core does, and passes its address to a helper; a walk that sets
 * .ops is new-API code.
 */
#include <linux/irqwalk.h>

static int active_enter(struct irq_desc *desc, struct irq_walker *w)
{
	unsigned int *count = w->cookie;

	if (!irqd_irq_disabled(&desc->irq_data))
		(*count)++;
	return 0;
}

static const struct irq_walker_ops active_walker_ops = {
	.enter	= active_enter,
};

int count_active(struct irq_domain *domain, unsigned int *count)
{
	return irq_walk_tree(&active_walker_ops, domain, count,
			     IRQ_WALK_ACTIVE);
}

int count_active_below(struct irq_desc *desc, unsigned int *count)
{
	return irq_walk_desc(&active_walker_ops, desc, count);
}

static int call_enter(struct irq_desc *desc, struct irq_walker *w)
{
	if (!w->ops->enter)
		return 0;
	return w->ops->enter(desc, w);
}

int count_active_one(struct irq_desc *desc, unsigned int *count)
{
	struct irq_walker w = {
		.ops = &active_walker_ops,
		.domain = desc->irq_data.domain,
		.cookie = count,
	};

	return call_enter(desc, &w);
}
