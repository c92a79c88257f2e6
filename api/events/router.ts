import { Router, type Request, type Response } from 'express';
import type { PrismaClient } from '../../prisma/generated/client';
import { AppError } from '../../lib/errors';

export interface EventsDependencies {
  prisma: PrismaClient;
  /** How often the stream looks for changes, in milliseconds. */
  pollIntervalMs?: number;
  /** Comment lines keep proxies from closing an idle stream. */
  heartbeatMs?: number;
}

interface TaskSnapshot {
  status: string;
  progress: number;
}

const COMMIT_MARGIN_MS = 2_000;

const ACTIVE_STATUSES = ['queued', 'running'] as const;

/**
 * `GET /events`: a server-sent-events stream of the principal's task status
 * and progress (`task`) and new messages (`message`). The browser's
 * EventSource reconnects by itself after the `retry` delay.
 * NOTE: each stream polls the database; a LISTEN/NOTIFY fan-out would cut the queries when many tabs are open.
 */
export function eventsRouter(deps: EventsDependencies): Router {
  const router = Router();
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const heartbeatMs = deps.heartbeatMs ?? 20_000;

  router.get('/events', async (request: Request, response: Response) => {
    if (!request.principal) throw new AppError('UNAUTHENTICATED', 'Authentication required');
    const accountId = request.principal.accountId;

    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // Stops nginx from buffering the stream.
      'X-Accel-Buffering': 'no',
    });
    response.write('retry: 3000\n\n');

    const send = (event: string, data: unknown): void => {
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };

    // Tasks already running when the stream opens are tracked so their next change is sent.
    const tracked = new Map<string, TaskSnapshot>();
    const [active, unreadCount, latest] = await Promise.all([
      deps.prisma.task.findMany({ where: { accountId, status: { in: [...ACTIVE_STATUSES] } }, select: { id: true, status: true, progress: true } }),
      deps.prisma.message.count({ where: { accountId, readAt: null } }),
      deps.prisma.message.findFirst({ where: { accountId }, orderBy: { createdAt: 'desc' }, select: { createdAt: true } }),
    ]);
    for (const task of active) tracked.set(task.id, { status: task.status, progress: task.progress });
    let messagesSince = latest?.createdAt ?? new Date(0);
    let openedAt = new Date();
    send('ready', { unreadCount });

    let closed = false;
    let polling = false;

    const poll = async (): Promise<void> => {
      if (polling || closed) return;
      polling = true;
      try {
        await pollTasks();
        await pollMessages();
      } catch (error) {
        request.log?.warn({ err: error }, 'event stream poll failed');
      } finally {
        polling = false;
      }
    };

    const pollTasks = async (): Promise<void> => {
      const queryStart = Date.now();
      const tasks = await deps.prisma.task.findMany({
        where: {
          accountId,
          OR: [{ status: { in: [...ACTIVE_STATUSES] } }, { id: { in: [...tracked.keys()] } }, { createdAt: { gte: openedAt } }],
        },
        select: { id: true, status: true, progress: true, errorCode: true, finishedAt: true },
      });

      for (const task of tasks) {
        const previous = tracked.get(task.id);
        if (previous && previous.status === task.status && previous.progress === task.progress) continue;

        send('task', { id: task.id, status: task.status, progress: task.progress, errorCode: task.errorCode, finishedAt: task.finishedAt?.toISOString() ?? null });
        if (task.status === 'queued' || task.status === 'running') tracked.set(task.id, { status: task.status, progress: task.progress });
        else tracked.delete(task.id);
      }

      // Tasks created before this query are now tracked or sent; the margin covers transactions still committing.
      // A task that finished inside the margin may be sent twice, which clients treat as the same update.
      openedAt = new Date(queryStart - COMMIT_MARGIN_MS);
    };

    const pollMessages = async (): Promise<void> => {
      const messages = await deps.prisma.message.findMany({
        where: { accountId, createdAt: { gt: messagesSince } },
        orderBy: { createdAt: 'asc' },
        take: 50,
      });
      if (messages.length === 0) return;

      messagesSince = messages[messages.length - 1]!.createdAt;
      const unread = await deps.prisma.message.count({ where: { accountId, readAt: null } });
      for (const message of messages) {
        send('message', {
          id: message.id,
          kind: message.kind,
          params: message.params,
          taskId: message.taskId,
          readAt: message.readAt?.toISOString() ?? null,
          createdAt: message.createdAt.toISOString(),
          unreadCount: unread,
        });
      }
    };

    const pollTimer = setInterval(() => void poll(), pollIntervalMs);
    const heartbeatTimer = setInterval(() => response.write(': keep-alive\n\n'), heartbeatMs);

    request.on('close', () => {
      closed = true;
      clearInterval(pollTimer);
      clearInterval(heartbeatTimer);
    });
  });

  return router;
}
