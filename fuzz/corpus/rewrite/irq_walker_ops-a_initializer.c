/*
 * Case a: a designated initializer that sets all three callbacks, .domain
 * and .cookie, and one irq_walk_tree() call.  The .error member is under
 * #ifdef CONFIG_GENERIC_IRQ_DEBUGFS and the ops struct keeps that guard.
 * The walk has a specific name, so the ops struct is named after it, and
 * the function has a leading comment, so the ops struct goes above it.
 */
#include <linux/irqwalk.h>

struct nest_stats {
	unsigned int visited;
	unsigned int chained;
	unsigned int errors;
	int max_depth;
};

static int nest_enter(struct irq_desc *desc, struct irq_walker *w)
{
	struct nest_stats *ns = w->cookie;

	ns->visited++;
	if (w->depth > ns->max_depth)
		ns->max_depth = w->depth;
	return 0;
}

static int nest_leave(struct irq_desc *desc, struct irq_walker *w)
{
	struct nest_stats *ns = w->cookie;

	if (irq_desc_is_chained(desc))
		ns->chained++;
	return 0;
}

#ifdef CONFIG_GENERIC_IRQ_DEBUGFS
static void nest_error(struct irq_desc *desc, int err, struct irq_walker *w)
{
	struct nest_stats *ns = w->cookie;

	ns->errors++;
	pr_debug("irq %u: walk error %d\n", irq_desc_get_irq(desc), err);
}
#endif

/*
 * Walk every interrupt below @domain, children included, and return how
 * many were visited.  @max_depth receives the deepest nesting seen.
 */
unsigned int count_nested_irqs(struct irq_domain *domain, int *max_depth)
{
	struct nest_stats ns = { 0 };
	struct irq_walker nest_walker = {
		.enter = nest_enter,
		.leave = nest_leave,
#ifdef CONFIG_GENERIC_IRQ_DEBUGFS
		.error = nest_error,
#endif
		.domain = domain,
		.cookie = &ns,
	};

	irq_walk_tree(IRQ_WALK_CHILDREN, &nest_walker);
	*max_depth = ns.max_depth;
	return ns.visited;
}
