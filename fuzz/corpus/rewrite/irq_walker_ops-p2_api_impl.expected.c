/*
 * Case p2: the made-up API's implementation: callbacks go through ->ops,
 * the entry points take the new arguments and build the walker locally
 * (irq_walk_desc takes the domain from the descriptor).
 */
#include <linux/errno.h>
#include <linux/irqwalk.h>

static int visit(struct irq_desc *desc, struct irq_walker *w)
{
	int ret = 0;

	w->depth++;
	if (w->ops->enter)
		ret = w->ops->enter(desc, w);
	if (!ret && w->ops->leave)
		ret = w->ops->leave(desc, w);
	w->depth--;
	return ret;
}

int irq_walk_tree(const struct irq_walker_ops *ops, struct irq_domain *domain,
		  void *cookie, unsigned int flags)
{
	struct irq_walker w = {
		.ops	= ops,
		.domain	= domain,
		.cookie	= cookie,
	};
	struct irq_desc root = { 0 };
	int ret;

	if (!w.domain)
		return -EINVAL;
	ret = visit(&root, &w);
	if (ret < 0 && w.ops->error)
		w.ops->error(&root, ret, &w);
	return flags & IRQ_WALK_ACTIVE ? ret : 0;
}

int irq_walk_desc(const struct irq_walker_ops *ops, struct irq_desc *desc,
		  void *cookie)
{
	struct irq_walker w = {
		.ops	= ops,
		.domain	= desc->irq_data.domain,
		.cookie	= cookie,
	};

	return visit(desc, &w);
}
