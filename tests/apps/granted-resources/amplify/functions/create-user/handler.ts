type Event = { arguments: { email: string } };

export const handler = async (event: Event): Promise<string> => `invited ${event.arguments.email}`;
