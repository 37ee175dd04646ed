/*
 * Case p1: the made-up API's definition.  The callbacks move into struct
 * irq_walker_ops above struct irq_walker, with their kernel-doc, and the
 * prototypes take the ops first, as the rule's argument order says.
 */
#include <linux/kernel.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>

struct irq_walker;

/**
 * irq_walker_ops - callbacks for irq_walk_tree
 * @enter: called before the children of a descriptor are visited
 * @leave: called after them
 * @error: called when a descriptor cannot be visited
 */
struct irq_walker_ops {
	int (*enter)(struct irq_desc *desc, struct irq_walker *w);
	int (*leave)(struct irq_desc *desc, struct irq_walker *w);
	void (*error)(struct irq_desc *desc, int err, struct irq_walker *w);
};

/**
 * irq_walker - state of one irq tree walk
 * @ops: callbacks to run on each descriptor
 * @domain: the domain whose tree is walked
 * @cookie: data for the callbacks
 * @depth: nesting level of the current descriptor, kept by the walker
 */
struct irq_walker {
	const struct irq_walker_ops *ops;
	struct irq_domain *domain;
	void *cookie;
	int depth;
};

int irq_walk_tree(const struct irq_walker_ops *ops, struct irq_domain *domain,
		  void *cookie, unsigned int flags);
int irq_walk_desc(const struct irq_walker_ops *ops, struct irq_desc *desc,
		  void *cookie);
