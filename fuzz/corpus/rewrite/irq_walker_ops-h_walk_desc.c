/*
 * Case h: irq_walk_desc(desc, &walk).  The walker takes the domain from
 * the descriptor, so the stored .domain is not passed on, and .cookie is
 * never set, so NULL is passed: the call becomes
 * irq_walk_desc(&NAME, desc, NULL).
 */
#include <linux/irqwalk.h>

static int mask_enter(struct irq_desc *desc, struct irq_walker *w)
{
	if (irqd_irq_disabled(&desc->irq_data))
		return 0;
	irq_desc_mask(desc);
	return 0;
}

static int mask_leave(struct irq_desc *desc, struct irq_walker *w)
{
	desc->depth++;
	return 0;
}

int mask_irq_subtree(struct irq_desc *desc)
{
	struct irq_walker iw_walk = {
		.enter = mask_enter,
		.leave = mask_leave,
		.domain = desc->irq_data.domain,
	};
	unsigned long flags;
	int ret;

	flags = raw_spin_lock_irqsave(&desc->lock);
	ret = irq_walk_desc(desc, &iw_walk);
	raw_spin_unlock_irqrestore(&desc->lock, flags);
	return ret;
}
