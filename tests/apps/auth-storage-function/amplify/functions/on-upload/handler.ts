type UploadEvent = { Records: { s3: { object: { key: string; size: number } } }[] };

export const handler = async (event: UploadEvent): Promise<string[]> => {
  return event.Records.map((record) => `${record.s3.object.key} (${record.s3.object.size} bytes)`);
};
