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
	if (w->enter)
		ret = w->enter(desc, w);
	if (!ret && w->leave)
		ret = w->leave(desc, w);
	w->depth--;
	return ret;
}

int irq_walk_tree(unsigned int flags, struct irq_walker *w)
{
	struct irq_desc root = { 0 };
	int ret;

	if (!w->domain)
		return -EINVAL;
	ret = visit(&root, w);
	if (ret < 0 && w->error)
		w->error(&root, ret, w);
	return flags & IRQ_WALK_ACTIVE ? ret : 0;
}

int irq_walk_desc(struct irq_desc *desc, struct irq_walker *w)
{
	return visit(desc, w);
}
