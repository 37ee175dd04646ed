/*
 * Case b: an empty initializer followed by field stores.  The .leave store
 * is NULL, so that member is left out of the ops struct; the .depth store
 * is dropped, since the walker sets the depth itself.  The walk is named
 * "w", a generic name, so the ops struct is named after the function.
 */
#include <linux/irqwalk.h>

static int count_enter(struct irq_desc *desc, struct irq_walker *w)
{
	unsigned int *n = w->cookie;

	if (!irqd_irq_disabled(&desc->irq_data))
		(*n)++;
	return 0;
}

static const struct irq_walker_ops count_irqs_walker_ops = {
	.enter	= count_enter,
};

unsigned int count_irqs(struct irq_domain *domain)
{
	unsigned int n = 0;

	irq_domain_lock(domain);
	irq_walk_tree(&count_irqs_walker_ops, domain, &n, IRQ_WALK_ACTIVE);
	irq_domain_unlock(domain);
	return n;
}
