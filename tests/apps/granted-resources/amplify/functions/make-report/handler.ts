type Event = { arguments: { bookId: string } };

export const handler = async (event: Event): Promise<string> =>
  `report for ${event.arguments.bookId} goes to ${process.env.REPORT_BUCKET ?? 'no bucket'}`;
