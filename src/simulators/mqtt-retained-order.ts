import type { AedesOptions, Client } from 'aedes';

/**
 * Aedes hooks that keep a stored retained message from overwriting a newer live one on a subscriber.
 *
 * On SUBSCRIBE, Aedes reads the matching retained messages from its store ahead of sending them, one by
 * one, while live publishes on the new subscription go out at once. After a broker restart a subscriber
 * can so get an edge's live birth "online" and after it the will "offline" the store held before: it
 * would keep the edge offline. A stored message arrives with `brokerId` null (Aedes clears it so that
 * it is not taken for a duplicate); every live forward carries the broker's id. So a stored retained
 * message for a topic this client got live since the SUBSCRIBE that covers it is dropped: the live one
 * is newer, and any later change of that topic reaches the client live as well.
 */
export function retainedOrderHooks(): Pick<AedesOptions, 'authorizeSubscribe' | 'authorizeForward'> {
  const liveTopics = new WeakMap<Client, Set<string>>();
  return {
    authorizeSubscribe(client, subscription, callback) {
      // A new SUBSCRIBE sends the stored messages again; only what comes live after it may supersede them.
      const seen = liveTopics.get(client);
      if (seen) for (const topic of seen) if (covers(subscription.topic, topic)) seen.delete(topic);
      callback(null, subscription);
    },
    authorizeForward(client, packet) {
      let seen = liveTopics.get(client);
      if (!seen) liveTopics.set(client, (seen = new Set()));
      if (packet.brokerId) seen.add(packet.topic);
      else if (packet.retain && seen.has(packet.topic)) return null;
      return packet;
    },
  };
}

/** Whether the MQTT topic filter (with + and #) matches the topic. */
export function covers(filter: string, topic: string): boolean {
  const wanted = filter.split('/');
  const levels = topic.split('/');
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === '#') return true;
    if (i >= levels.length || (wanted[i] !== '+' && wanted[i] !== levels[i])) return false;
  }
  return wanted.length === levels.length;
}
